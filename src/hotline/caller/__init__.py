"""A caller's earlier tickets, found by the keyed hash of their phone (来电弹屏)."""
