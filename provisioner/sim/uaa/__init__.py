"""The token endpoints of the simulator: the CF UAA (`/uaa`), XSUAA per identity zone (`/xsuaa/<zone>`) and the
placeholder Cloud ALM API (`/alm/<tenant>/api`) that accepts tokens of its tenant's zone."""
