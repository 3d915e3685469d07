"""One module per external calendar service."""
