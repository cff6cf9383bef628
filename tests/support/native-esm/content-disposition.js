module.exports = require('./load')('content-disposition');
