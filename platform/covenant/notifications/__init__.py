"""In-app notifications and e-mail, sent by workers."""
