"""Bringing FAQs in and out: Rasa, QnA Maker and spreadsheets, all through one
list of entries (`entries`).

Imports `content`; never the server or conversations.
"""
