"""One module per area of the site, each with its Router(s). A function includes only its own."""
