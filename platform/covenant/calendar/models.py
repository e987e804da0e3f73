"""Tables of this part of the core. (Placeholder: filled in as the part lands.)"""
