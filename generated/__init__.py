"""Models generated from spec/openapi.yaml by scripts/codegen.py. Do not edit."""
