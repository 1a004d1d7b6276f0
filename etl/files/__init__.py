"""Files on disk: attachment metadata and bytes, avatars, and the safe names they take."""
