"""Kiln's AWS CDK app: the deployable shape of the route table, tiers and schema in functions/kiln."""
