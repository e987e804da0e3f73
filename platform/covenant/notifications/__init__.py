"""In-app notifications and e-mail, sent by workers."""

from covenant.notifications.mail import deliver, deliver_pending, queue_mail

__all__ = ["deliver", "deliver_pending", "queue_mail"]
