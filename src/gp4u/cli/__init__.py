"""The `gp4u` command line: serve, migrate, search the market, import catalogs."""
