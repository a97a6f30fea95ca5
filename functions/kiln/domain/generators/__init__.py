"""Generators that need nothing but the domain layer (see kiln.domain.generation for the contract)."""
