"""Developer tools (not shipped with the bot): the workflow generator."""
