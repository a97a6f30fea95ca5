"""Kiln: turn a project description into a verified codebase, serverless."""

SERVICE_NAME = "kiln"
VERSION = "0.1.0"
