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

// Each service's own user, with only the roles it uses (the root user is for this
// script and the operator). Made once, and its password set again on every run,
// so a password changed in .env takes effect within one healthcheck interval
// (docs/operations.md, "Rotating a password"). Users are written on the primary
// only; the others get them by replication.
const users = [
  { user: "content", password: "MONGO_CONTENT_PASSWORD", roles: [{ role: "readWrite", db: "ugc" }] },
  { user: "privacy", password: "MONGO_PRIVACY_PASSWORD", roles: [{ role: "readWrite", db: "ugc" }] },
  {
    user: "monitor",
    password: "MONGO_MONITOR_PASSWORD",
    roles: [
      { role: "clusterMonitor", db: "admin" },
      { role: "read", db: "local" },
    ],
  },
  {
    user: "backup",
    password: "MONGO_BACKUP_PASSWORD",
    roles: [
      { role: "backup", db: "admin" },
      { role: "restore", db: "admin" },
      { role: "readWrite", db: "ugc" },
      { role: "dbAdmin", db: "ugc" },
    ],
  },
];
if (db.hello().isWritablePrimary) {
  const admin = db.getSiblingDB("admin");
  for (const { user, password, roles } of users) {
    const pwd = process.env[password];
    if (!pwd) {
      print(`set ${password} for the ${user} user`);
      quit(1);
    }
    if (admin.getUser(user) === null) admin.createUser({ user, pwd, roles });
    else admin.updateUser(user, { pwd, roles });
  }
}
