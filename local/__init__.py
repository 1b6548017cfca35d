"""Local serverless runtime helpers (business-time clock for moto Step Functions)."""
