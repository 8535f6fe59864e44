// The MongoDB healthcheck of mongo-1: initiates the replica set once, with its
// members named as the compose services are (a member named by container id would
// be lost when the container is recreated), then is healthy while a primary exists.
// Runs as the root user (mongosh -u ugc ...): mongod runs with a keyfile, so
// rs.status() and rs.initiate() need authentication.
const members = ["mongo-1:27017", "mongo-2:27017", "mongo-3:27017"];

function status() {
  try {
    return rs.status();
  } catch (error) {
    if (error.codeName === "NotYetInitialized") return null;
    throw error;
  }
}

let current = status();
if (current === null) {
  rs.initiate({
    _id: "rs0",
    members: members.map((host, id) => ({ _id: id, host, priority: id === 0 ? 2 : 1 })),
  });
  current = status();
}
const primary = current && current.members.some((m) => m.stateStr === "PRIMARY");
if (!primary) quit(1);
