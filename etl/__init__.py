"""Stage 1: sync Webex spaces into the SQLite archive (the only package that talks HTTP)."""

# Here rather than in api.py so the command line can show it without importing requests.
DEFAULT_API_URL = "https://webexapis.com/v1"
