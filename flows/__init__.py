"""The flows: each reads like the business process it runs. Importing the package masks secrets in the state
messages Prefect makes of exceptions (flows/masking.py)."""

from flows import masking

masking.install()
