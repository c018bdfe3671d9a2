"""Jiebang's command-line client: teams and sponsors talk to a server over its REST API.

It needs only click, requests and requests-toolbelt, so it installs without the
server (``pip install ./client``, the ``jiebang-client`` distribution). Inside a
server install the same commands are part of ``jiebang``.
"""

__version__ = "0.1.0"
