"""Greenlight's domain package, shipped to every function as the Lambda layer."""
