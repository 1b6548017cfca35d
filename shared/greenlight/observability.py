"""One logger for the whole service (Powertools: structured JSON, service name from the environment)."""

from aws_lambda_powertools import Logger

logger = Logger()
