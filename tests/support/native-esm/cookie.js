module.exports = require('./load')('cookie');
