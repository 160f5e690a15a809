"""Reusable Textual widgets.  They know roundtable.model only; they post Messages."""
