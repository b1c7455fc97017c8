"""The running version, shown by /health and the spec."""

VERSION = "0.1.0"
