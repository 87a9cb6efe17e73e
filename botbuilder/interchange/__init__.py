"""Bringing FAQs in and out: Rasa, QnA Maker and spreadsheets.

`registry` is the one table of formats, each with its reader and writer;
every format reads into and writes from the same list of entries
(`entries`), and never writes flow files itself: `editing` turns entries
into a draft that the editor service saves. `limits` bounds what an
uploaded file may make us build (rows, cells, unpacked size, YAML aliases)
before a reader builds it.

Imports `content`; never editing, the server or conversations.
"""
