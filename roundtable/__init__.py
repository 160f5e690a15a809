"""roundtable: run regional round tables from the keyboard."""

__version__ = "0.1.0"
