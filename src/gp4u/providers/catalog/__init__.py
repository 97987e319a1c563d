"""Public GPU price catalogs (SkyPilot `vms.csv`, gpuhunt CSV): parsers and the HTTP download."""
