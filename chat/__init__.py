"""The message contract: outgoing messages, senders and their capabilities, the bot's texts."""
