"""The shared core of Platos: settings, database, security and the domain services.

Both the REST handlers (`handlers/`) and the WebSocket server (`ws/`) import
from here; nothing in here imports from them.
"""
