"""bilingo: recorded talks in, bilingual (English + Simplified Chinese) captioned videos out."""
__version__ = "0.1.0"
