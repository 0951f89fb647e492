"""Reporting's rules: who may read a student, what a monthly statement and a report card hold.

Pure: no I/O, no clock (callers pass ``now``), no framework.
"""
