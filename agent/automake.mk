# agent/
