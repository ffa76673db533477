"""User text inside Terraform JSON."""


def terraform_literal(text: str) -> str:
    """`text` as Terraform reads it back: a Terraform string is a template, where ${ and %{ start expressions
    (a build command's `${HOME}` would otherwise be an invalid reference)."""
    return text.replace("${", "$${").replace("%{", "%%{")


def terraform_text(literal: str) -> str:
    """What Terraform hands AWS for a string terraform_literal() wrote: its escapes undone."""
    return literal.replace("$${", "${").replace("%%{", "%{")
