"""The SDK WebSocket server (`/ws/sdk`): speaks the published platools protocol.

`frames` and `declarations` parse and check frames without any socket;
`hub` keeps the live sockets and their calls; `connection` is the thin
per-socket loop; `server` is the websockets server with its handshake.
"""
