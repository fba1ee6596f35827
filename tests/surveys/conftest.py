"""The surveys use the mail tests' school and people."""

from tests.messages.conftest import MailClients, MailSchool, mail, people

__all__ = ["MailClients", "MailSchool", "mail", "people"]
