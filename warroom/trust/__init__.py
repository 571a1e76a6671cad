"""Trust in the record: signed checkpoints of the timeline (SSH signatures, allowed_signers),
what they vouch for, and the external anchors that sent messages carry.

`sshsig` runs ssh-keygen and talks to ssh-agent; `checkpoints` signs the chain head and
writes the CHECKPOINT event through the room; `verify` checks every checkpoint of a timeline;
`anchors` reads and checks `ref SEQ:HASH`.
"""
