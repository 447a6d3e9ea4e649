"""The token endpoints of the simulator: the CF UAA (`/uaa`), XSUAA per identity zone (`/xsuaa/<zone>`) and the
small Cloud ALM API (`/alm/<tenant>/api`, almapi.py) that accepts only valid tokens of its tenant's zone."""
