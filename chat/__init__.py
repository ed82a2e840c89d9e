"""The message contract: outgoing messages, senders and their capabilities, the texts the bot says."""
