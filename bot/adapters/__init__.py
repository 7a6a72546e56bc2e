"""Platform adapters. Only modules in this package may import discord, slack_bolt or slack_sdk."""
