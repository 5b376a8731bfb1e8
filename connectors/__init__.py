"""Source connectors: each yields raw records in pages with the cursor to resume from."""
