"""Thin REST handlers, routed by Connexion from `spec/openapi.yaml` (operationId)."""
