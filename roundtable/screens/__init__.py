"""Screens and modals of the roundtable app."""
