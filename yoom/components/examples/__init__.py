"""Worked examples of controls written in Python only (see README: "Add a control to the call")."""
