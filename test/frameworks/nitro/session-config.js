// The session configuration every route of the Nitro app shares: sealed-session's calls and
// h3's own use the same password and the default name, so a cookie written by one side is
// read by the other. No Secure flag: the test speaks plain HTTP to 127.0.0.1.
export const config = {
  password: 'nitro_framework_test_password_0123456789abcdef',
  cookie: { secure: false },
};

/** The part of a session the test compares, the same shape from both libraries. */
export function view(session) {
  return { id: session.id, data: session.data };
}

/** A failed call, as a body the test can show: its name, code and message. */
export function failure(event, error) {
  event.node.res.statusCode = 500;
  return { error: { name: error?.name, code: error?.code, message: error?.message } };
}
