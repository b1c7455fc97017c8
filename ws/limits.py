"""The socket server's limits (docs/sdk-protocol.md lists them for customers)."""

MAX_FRAME_BYTES = 4 * 1024 * 1024  # any frame above: closed with 1009
MAX_RESULT_BYTES = 1024 * 1024  # a tool_result above: the call fails, the socket stays
REGISTER_INTERVAL_S = 1.0  # declarations are written at most once a second per socket
REGISTER_FLOOD_FRAMES = 20  # more tool_register frames than this ...
REGISTER_FLOOD_WINDOW_S = 10.0  # ... within this window: closed with 1008
LAST_SEEN_WRITE_S = 30.0  # last_seen_at is written at most this often per socket
PING_INTERVAL_S = 20.0  # protocol pings; a peer that misses one for ...
PING_TIMEOUT_S = 20.0  # ... this long is dropped (dead TCP)
MAX_CALLS_SENT_PER_SOCKET = 8  # unanswered tool_call frames on one socket; more wait for a slot
MAX_SOCKETS_PER_CONNECTION = 100  # live sockets sharing one secret, per socket process
HANDSHAKES_PER_CONNECTION = "60/minute"  # per socket process; more are refused with 429
