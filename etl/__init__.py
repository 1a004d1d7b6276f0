"""Stage 1: sync Webex spaces into the SQLite archive (the only package that talks HTTP)."""
