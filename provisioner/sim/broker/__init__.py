"""The simulated service brokers: what happens when an instance or key of an offering is created (parameter
validation, XSUAA clients and key credentials). Shared by the CF API and, later, SAP Service Manager; it
imports no API package."""
