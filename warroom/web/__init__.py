"""`warroom serve`: a read-only web page per incident for stakeholders (aiohttp + Jinja2).

page.py turns an incident's state into plain rows (texts redacted and made inert); app.py
serves them, asks for the token, and pushes a fresh rendering over server-sent events when
the timeline moves. Nothing here writes to the store: incidents are opened read-only.
"""
