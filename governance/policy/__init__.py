"""The YAML policy language: schema (pydantic) and the strict, line-numbered loader."""
