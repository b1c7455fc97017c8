"""The Platos application: assembly of the REST app, the CLI and the docs pages."""
