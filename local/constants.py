"""Fixed identifiers of the emulated account, shared by every piece of the local cloud."""

# moto's default account; ARNs built here must name it or moto will not find the resources.
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
# The stage name the deployed API uses; it appears in methodArn and requestContext.path.
STAGE = "prod"
# Prefix of every local resource and function name, so ARNs read like the deployed ones.
NAME_PREFIX = "kiln"
# The person `python -m local` adds to the admin workspace beside the admin key. Declared here,
# not in kiln.config: no function reads them, and a password has no place in a function's environment.
ADMIN_EMAIL_VARIABLE = "KILN_LOCAL_ADMIN_EMAIL"
ADMIN_PASSWORD_VARIABLE = "KILN_LOCAL_ADMIN_PASSWORD"


def function_name(name: str) -> str:
    """Lambda function name of a worker (or route handler) in the local cloud."""
    return f"{NAME_PREFIX}-{name}"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name(name)}"
