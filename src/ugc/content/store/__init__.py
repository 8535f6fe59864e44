"""MongoDB storage of content: the only modules that know BSON and pymongo."""
