//! Sample-network generator: Dutch-like LV networks, a three-phase four-wire
//! unbalanced load flow per 10-minute step, meter reads as real meters give them.
