"""Subtitle file formats, one module each (as pysubs2 does): ASS for the burned captions, SRT and WebVTT sidecars."""
